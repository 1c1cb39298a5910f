"""Label printing: label stocks as data and the generic label renderer."""
