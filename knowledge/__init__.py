"""Knowledge: the data contract (guides, themes, packs), loading, text normalisation and the index."""
