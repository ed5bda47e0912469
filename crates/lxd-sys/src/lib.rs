//! The OS boundary of the project.
