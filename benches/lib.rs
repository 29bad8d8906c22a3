//! Shared helpers for the Sipline benchmarks (inputs from the test corpus).
