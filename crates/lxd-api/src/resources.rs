//! Host resources served by `/1.0/resources` (`shared/api/resource.go`).
