//! Snapshot tests of the rendered screen (TestBackend + insta), including tiny sizes.
