"""The character corpus that 05_rnn_from_scratch and 06_rnn_models give their students: one source,
stamped by `make release` into both notebooks' language-model cell (`# <stamp: corpus corpus>` in
their references' scaffold sections); the references import it from here.

Shapes: B batch, T time steps, L characters per row of the batch.
"""
import torch


# <scaffold: corpus>
def load_corpus(path):
    """The text as lower-case letters and single spaces, and its characters as indices."""
    with open(path, encoding="utf-8") as f:
        text = " ".join("".join(c if c.isalpha() else " " for c in f.read().lower()).split())
    idx_to_char = sorted(set(text))
    char_to_idx = {c: i for i, c in enumerate(idx_to_char)}
    return text, idx_to_char, torch.tensor([char_to_idx[c] for c in text])


def seq_data_iter_sequential(corpus, batch_size, num_steps):
    """Minibatches (X, Y) of shape (B, T), Y = X shifted by one; batch i continues batch i-1."""
    num_tokens = (len(corpus) - 1) // batch_size * batch_size
    Xs = corpus[:num_tokens].reshape(batch_size, -1)  # (B, L)
    Ys = corpus[1:num_tokens + 1].reshape(batch_size, -1)  # (B, L)
    for i in range(0, Xs.shape[1] // num_steps * num_steps, num_steps):
        yield Xs[:, i:i + num_steps], Ys[:, i:i + num_steps]  # (B, T), (B, T)
# </scaffold>
