"""`python -m wallet.cli`: the same as the `wallet` command."""

from wallet.cli import main

if __name__ == "__main__":
    main()
