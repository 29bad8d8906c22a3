//! Support code shared by the Sipline example programs.
