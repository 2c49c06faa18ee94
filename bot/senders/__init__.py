"""Messages the worker sends exactly once, through a courier, whatever the channel."""
