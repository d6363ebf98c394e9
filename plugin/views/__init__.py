"""Pages: the admin console (ModelViews) and the partner and distributor pages."""
