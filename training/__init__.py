"""The bundled training package: data, losses, training loops, export (imports engine, never gui)."""

from maskgit_studio import quiet_start_up_interrupts

# Ctrl-C while ``maskgit-train`` is still importing exits with 130 and one line (only when run
# as the console script; ``training.cli.main`` takes over as soon as it runs).
quiet_start_up_interrupts()
