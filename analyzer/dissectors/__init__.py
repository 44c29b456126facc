"""Protocol dissectors: datagram parsers and stream dissectors, one module per protocol."""
