"""One router per resource: pages and their ``/api`` endpoints side by side."""
