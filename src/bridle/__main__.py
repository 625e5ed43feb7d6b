"""`python -m bridle`: the same entry point as the `bridle` console script."""

from bridle.cli.main import main

if __name__ == "__main__":
    main()
