//! cgroups: limits, usage and the freezer, on v2 and v1/hybrid hierarchies.
