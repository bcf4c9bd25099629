//! YAML text to a tree of nodes that keep their byte spans.
