"""lisse: Li | solid-electrolyte interface stability workflow (DOLFINx + Snakemake)."""

__version__ = "0.1.0"
