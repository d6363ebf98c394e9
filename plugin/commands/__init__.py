"""Use cases: one class per file, ``validate()`` then ``run()``; only commands commit."""
