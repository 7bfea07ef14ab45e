"""Services: the domain operations (accounts, fulfilment, public log, decisions …) over storage."""
