"""Mapping: plain functions from extracted data to RDF statements, one vocabulary concern
each: rdflib triples, or for what every article has (kg.mapping.article, .annotation, the
raw file in .provenance) N-Quads text, which is most of a build's statements."""

from rdflib.term import Node

Triple = tuple[Node, Node, Node]
