"""Evaluation: typed cases, small pure metrics, and a runner staff use before every knowledge update."""
