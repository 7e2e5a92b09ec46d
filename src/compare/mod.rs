//! Comparisons of variants.
