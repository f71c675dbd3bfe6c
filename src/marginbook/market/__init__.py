"""Market data: price history (bundled, user files, exchange downloads) and the fair-market-value look-up."""
