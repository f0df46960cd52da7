# lisse: electro-chemo-mechanical stability of Li | LLZO interfaces.
# Thin entry point: the config is validated (workflow/schemas/config.schema.yaml) before
# any job is planned; the rules live in workflow/rules/.
from pathlib import Path

from snakemake.utils import min_version

from lisse.workflow.config import experiments_folder, load_study

min_version("9.0")


configfile: "config/config.yaml"


# a relative experiments file is read from the folder of the config file (or command line) that names it;
# the command line's --configfile files override the default one, in their order
STUDY = load_study(config, "workflow/schemas/config.schema.yaml",
                   experiments_dir=experiments_folder(["config/config.yaml", *workflow.config_settings.configfiles],
                                                      workflow.config_settings.config))
RESULTS = STUDY.results


report: f"{RESULTS}/report_description.rst"  # written by rule report_description


include: "workflow/rules/common.smk"
if STUDY.runs("cells"):

    include: "workflow/rules/geometry.smk"
    include: "workflow/rules/solvers.smk"
    include: "workflow/rules/stability.smk"
    include: "workflow/rules/figures.smk"
    include: "workflow/rules/design.smk"


if STUDY.runs("plating"):

    include: "workflow/rules/plating.smk"


include: "workflow/rules/provenance.smk"


rule all:
    input:
        study_outputs(),
        f"{RESULTS}/provenance.json",
        f"{RESULTS}/report_description.rst",
    default_target: True


onsuccess:
    print_agreement_score()
