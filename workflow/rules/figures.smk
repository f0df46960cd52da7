# The study's figures (SCIENCE.md, "Figures"), PNG + PDF under results/<study>/figures/,
# each registered in the Snakemake report with a caption.

rule figure_field_maps:
    """Figure 1: Li flux in the SSE and equivalent stress in the Li, planar vs grid."""
    input:
        ec=figure_files("electrochemistry", "fields.vtu", field_map_geometries()),
        me=figure_files("mechanics", "fields.vtu", field_map_geometries()),
    output:
        png=report(f"{FIGURES}/field_maps.png", caption="../report/field_maps.rst", category="Figures"),
        pdf=f"{FIGURES}/field_maps.pdf",
    params:
        labels=[STUDY.geometries[g].label for g in field_map_geometries()],
        windows=[STUDY.geometries[g].zoom_box_um() for g in field_map_geometries()],
    log:
        f"{RESULTS}/logs/figures/field_maps.log",
    conda:
        "../envs/lisse.yaml"
    script:
        "../../scripts/figure_field_maps.py"


rule figure_profiles:
    """Figures 2 and 3: interface profiles and strain-rate profiles at the figures' operating point."""
    input:
        ec=figure_files("electrochemistry", "interface.csv"),
        me=figure_files("mechanics", "interface.csv"),
        ec_all=[solver_files("electrochemistry", g, "interface.csv") for g in STUDY.geometries],
        me_all=[solver_files("mechanics", g, "interface.csv") for g in STUDY.geometries],
        calibration=f"{RESULTS}/calibration.json",
    output:
        profiles=report(
            f"{FIGURES}/interface_profiles.png",
            caption="../report/interface_profiles.rst",
            category="Figures",
        ),
        profiles_pdf=f"{FIGURES}/interface_profiles.pdf",
        strain_rates=report(
            f"{FIGURES}/strain_rates.png", caption="../report/strain_rates.rst", category="Figures"
        ),
        strain_rates_pdf=f"{FIGURES}/strain_rates.pdf",
    params:
        labels=[case.label for case in STUDY.geometries.values()],
        geometries=list(STUDY.geometries),
        currents_A_m2=sweep_values("electrochemistry"),
        pressures_Pa=sweep_values("mechanics"),
        config=ANALYSIS_CONFIG,
    log:
        f"{RESULTS}/logs/figures/profiles.log",
    conda:
        "../envs/lisse.yaml"
    script:
        "../../scripts/figure_profiles.py"


rule figure_phase_diagrams:
    """Figures 4 and 5: phase diagrams, boundary overlay, CCD vs channel width; experiments pinned."""
    input:
        diagrams=expand(f"{RESULTS}/stability/{{geometry}}/phase_diagram.csv", geometry=STUDY.geometries),
        ccds=expand(f"{RESULTS}/stability/{{geometry}}/ccd.csv", geometry=STUDY.geometries),
        experiments=config["experiments"]["file"],
        calibration=f"{RESULTS}/calibration.json",
    output:
        diagrams=report(
            f"{FIGURES}/phase_diagrams.png", caption="../report/phase_diagrams.rst", category="Figures"
        ),
        diagrams_pdf=f"{FIGURES}/phase_diagrams.pdf",
        boundaries=report(
            f"{FIGURES}/phase_boundaries.png",
            caption="../report/phase_boundaries.rst",
            category="Figures",
        ),
        boundaries_pdf=f"{FIGURES}/phase_boundaries.pdf",
        ccd=report(
            f"{FIGURES}/ccd_vs_channel_width.png", caption="../report/ccd.rst", category="Figures"
        ),
        ccd_pdf=f"{FIGURES}/ccd_vs_channel_width.pdf",
        ccd_table=f"{RESULTS}/ccd_at_calibration_pressure.csv",
    params:
        labels=[case.label for case in STUDY.geometries.values()],
        widths=[case.channel_width_um for case in STUDY.geometries.values()],
        config=ANALYSIS_CONFIG,
    log:
        f"{RESULTS}/logs/figures/phase_diagrams.log",
    conda:
        "../envs/lisse.yaml"
    script:
        "../../scripts/figure_phase_diagrams.py"


rule figure_validation:
    """Figure 6: the validation table."""
    input:
        table=f"{RESULTS}/validation.csv",
    output:
        png=report(
            f"{FIGURES}/validation_table.png", caption="../report/validation.rst", category="Figures"
        ),
        pdf=f"{FIGURES}/validation_table.pdf",
    log:
        f"{RESULTS}/logs/figures/validation.log",
    conda:
        "../envs/lisse.yaml"
    script:
        "../../scripts/figure_validation.py"


rule figure_unit_cell_3d:
    """The 3D unit cells of the square grid beside the 2D cross-sections of the same width."""
    input:
        summaries=unit_cell_3d_files("electrochemistry", "summary.json"),
        mechanics_summaries=unit_cell_3d_files("mechanics", "summary.json"),
        ec_interfaces=unit_cell_3d_files("electrochemistry", "interface.csv"),
        me_interfaces=unit_cell_3d_files("mechanics", "interface.csv"),
        calibration=f"{RESULTS}/calibration.json",
        render_vtu=unit_cell_3d_render_vtu(),
    output:
        png=report(f"{FIGURES}/unit_cell_3d.png", caption="../report/unit_cell_3d.rst", category="Figures"),
        pdf=f"{FIGURES}/unit_cell_3d.pdf",
        table=f"{RESULTS}/unit_cell_3d.csv",
        mechanics_table=f"{RESULTS}/unit_cell_3d_mechanics.csv",
    params:
        labels=unit_cell_3d_labels("electrochemistry"),
        mechanics_labels=unit_cell_3d_labels("mechanics"),
        currents_A_m2=unit_cell_3d_sweep_values("electrochemistry"),
        pressures_Pa=unit_cell_3d_sweep_values("mechanics"),
        config=ANALYSIS_CONFIG,
        current_mA_cm2=STUDY.config["figures"]["current_mA_cm2"],
        pressure_MPa=STUDY.config["figures"]["pressure_MPa"],
    log:
        f"{RESULTS}/logs/figures/unit_cell_3d.log",
    conda:
        "../envs/lisse.yaml"
    script:
        "../../scripts/figure_unit_cell_3d.py"
