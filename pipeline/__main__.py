"""Run the command line as `python -m pipeline`."""

from pipeline.process import main

if __name__ == "__main__":
    main()
