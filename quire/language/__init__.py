"""A book's language: the words Quire adds in it (`words`, with Pagefind's own interface words in
`pagefind_words`) and what its script asks of the layout (`scripts`: direction, hyphenation).

Every stage reads these, so they import no stage: the transform numbers figures with the
words, and each renderer labels its pages with them."""
