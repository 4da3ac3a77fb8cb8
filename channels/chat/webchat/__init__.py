"""Live web chat on the portal: not built yet."""
