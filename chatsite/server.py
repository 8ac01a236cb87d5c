"""The web process: ``python -m chatsite.server`` with Daphne's command line
(``daphne --help``). The server itself is ``realtime.server``."""

from realtime.server import main

if __name__ == "__main__":
    main()
