"""One module per `corpus` command group. Each stays light: heavy imports happen inside commands."""
