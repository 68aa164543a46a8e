"""The lecture's experiments: one module each, importable and testable without Streamlit.

Each module registers itself in the table of explorer.experiments.base (name, config, run, save, its page); the
CLI's experiment subcommands, `explorer ship` and the app's Experiments section read that table."""
