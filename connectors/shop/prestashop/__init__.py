"""PrestaShop 8 webservice connector (order source so far)."""
