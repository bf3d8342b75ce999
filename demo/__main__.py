"""`python -m demo generate|serve ...` until `adwatch demo ...` is wired in adwatch/cli.py."""

import sys

from demo.cli import build_parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
