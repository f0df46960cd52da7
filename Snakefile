# lisse: electro-chemo-mechanical stability of Li | LLZO interfaces.
# Thin entry point: the config is validated (workflow/schemas/config.schema.yaml) before
# any job is planned; the rules live in workflow/rules/.
from pathlib import Path

from snakemake.utils import min_version

from lisse.workflow.config import load_study

min_version("9.0")


configfile: "config/config.yaml"


# a relative experiments file is read from the folder of the (last) config file
STUDY = load_study(config, "workflow/schemas/config.schema.yaml",
                   config_dir=Path(workflow.configfiles[-1]).parent if workflow.configfiles else None)
RESULTS = STUDY.results


include: "workflow/rules/common.smk"
include: "workflow/rules/geometry.smk"
include: "workflow/rules/solvers.smk"
include: "workflow/rules/stability.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/plating.smk"
include: "workflow/rules/provenance.smk"


rule all:
    input:
        CELLS.geometry_outputs(),
        f"{RESULTS}/electrochemistry_summary.csv",
        f"{RESULTS}/mechanics_summary.csv",
        f"{RESULTS}/validation.csv",
        CELLS.figure_outputs(),
        f"{RESULTS}/provenance.json",
        SWEEP.outputs(),
    default_target: True


onsuccess:
    print_agreement_score()
