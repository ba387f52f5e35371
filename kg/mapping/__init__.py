"""Mapping: plain functions from extracted data to RDF triples, one vocabulary concern each."""

from rdflib.term import Node

Triple = tuple[Node, Node, Node]
