"""Portal pages: documents."""
