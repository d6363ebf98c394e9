"""marshmallow schemas: shape checks of input and output; business rules live in commands."""
