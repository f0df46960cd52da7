# The figures of Study A (Adv. Mater. 2021, 2104009), PNG + PDF under results/<study>/figures/,
# each registered in the Snakemake report with a caption. Per-geometry inputs are named
# <geometry label>_<kind> (lisse.workflow.sweep.input_name); the scripts read them by name.

rule figure_field_maps:
    """Figure 1: Li flux in the SSE and equivalent stress in the Li, planar vs grid."""
    input:
        **CELLS.figure_point_inputs("fields.vtu", CELLS.field_map_geometries()),
    output:
        png=report(f"{CELLS.figures}/field_maps.png", caption="../report/field_maps.rst", category="Figures"),
        pdf=f"{CELLS.figures}/field_maps.pdf",
    params:
        windows_um=CELLS.field_map_windows_um(),  # label -> window, in panel order
        depths_um={CELLS.label(g): CELLS.case(g).geometry.channel_depth * 1e6 for g in CELLS.field_map_geometries()},
        channel_widths_um={CELLS.label(g): CELLS.case(g).channel_width_um for g in CELLS.field_map_geometries()},
        dimension=STUDY.dimension,
        current_mA_cm2=config["figures"]["current_mA_cm2"],
        pressure_MPa=config["figures"]["pressure_MPa"],
        stress_scale=CELLS.mechanics_stress_scale(),  # figures.pressure_MPa / the solve's pressure
        temperature_C=config["temperature_C"],
    log:
        f"{RESULTS}/logs/figures/field_maps.log",
    conda:
        "../envs/lisse.yaml"
    script:
        "../../scripts/figure_field_maps.py"


rule figure_profiles:
    """Figures 2 and 3: interface profiles and strain-rate profiles at the figures' operating point."""
    input:
        **CELLS.figure_point_inputs("interface.csv", suffix="_at_figure_point"),
        **CELLS.sweep_inputs(),
        calibration=f"{RESULTS}/calibration.json",
    output:
        profiles=report(
            f"{CELLS.figures}/interface_profiles.png",
            caption="../report/interface_profiles.rst",
            category="Figures",
        ),
        profiles_pdf=f"{CELLS.figures}/interface_profiles.pdf",
        strain_rates=report(
            f"{CELLS.figures}/strain_rates.png", caption="../report/strain_rates.rst", category="Figures"
        ),
        strain_rates_pdf=f"{CELLS.figures}/strain_rates.pdf",
    params:
        labels=list(CELLS.geometry_labels()),
        currents_A_m2=CELLS.sweep_values("electrochemistry"),
        pressures_Pa=CELLS.sweep_values("mechanics"),
        stress_scale=CELLS.mechanics_stress_scale(),  # figures.pressure_MPa / the solve's pressure
        config=CELLS.analysis_config,
    log:
        f"{RESULTS}/logs/figures/profiles.log",
    conda:
        "../envs/lisse.yaml"
    script:
        "../../scripts/figure_profiles.py"


rule figure_phase_diagrams:
    """Figures 4 and 5: phase diagrams, boundary overlay, CCD vs channel width; experiments pinned."""
    input:
        **CELLS.stability_inputs(),
        experiments=STUDY.config["experiments"]["file"],
        calibration=f"{RESULTS}/calibration.json",
    output:
        diagrams=report(
            f"{CELLS.figures}/phase_diagrams.png", caption="../report/phase_diagrams.rst", category="Figures"
        ),
        diagrams_pdf=f"{CELLS.figures}/phase_diagrams.pdf",
        boundaries=report(
            f"{CELLS.figures}/phase_boundaries.png",
            caption="../report/phase_boundaries.rst",
            category="Figures",
        ),
        boundaries_pdf=f"{CELLS.figures}/phase_boundaries.pdf",
        ccd=report(
            f"{CELLS.figures}/ccd_vs_channel_width.png", caption="../report/ccd.rst", category="Figures"
        ),
        ccd_pdf=f"{CELLS.figures}/ccd_vs_channel_width.pdf",
        ccd_table=f"{RESULTS}/ccd_at_calibration_pressure.csv",
    params:
        channel_widths_um=CELLS.geometry_labels(),  # label -> width
        config=CELLS.analysis_config,
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
            f"{CELLS.figures}/validation_table.png", caption="../report/validation.rst", category="Figures"
        ),
        pdf=f"{CELLS.figures}/validation_table.pdf",
    log:
        f"{RESULTS}/logs/figures/validation.log",
    conda:
        "../envs/lisse.yaml"
    script:
        "../../scripts/figure_validation.py"
