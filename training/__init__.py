"""The bundled training package: data, losses, training loops, export (imports engine, never gui)."""
