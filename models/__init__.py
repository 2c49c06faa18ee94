"""Tables of the Board's action register and the persistence functions over them."""
