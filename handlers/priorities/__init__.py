"""The priorities exercise: asking partners which key crime areas matter, and the tally."""
