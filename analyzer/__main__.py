"""`python -m analyzer` runs the same CLI as the `pcap-analyzer` console script."""

from analyzer.cli import main

if __name__ == "__main__":
    main()
