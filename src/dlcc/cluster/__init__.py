"""Running dlcc on clusters: Slurm batch scripts for runs and sweeps (see docs/scaling.md)."""
