"""The Datasette catalogue, generated from the manifests."""
