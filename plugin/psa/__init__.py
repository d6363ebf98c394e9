"""The PSA port: what the billing sync, the directory and the catalog need from a partner's PSA, with no PSA
named. ``errors`` is the neutral error tree, ``records`` the values that cross, ``port`` the protocol an
adapter implements (ConnectWise's is ``msphub_psa.connectwise.adapter``). Nothing here imports Flask,
SQLAlchemy or a PSA's client."""
