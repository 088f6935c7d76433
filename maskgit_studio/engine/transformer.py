"""Bidirectional MaskGIT transformer (official nets/maskgit_transformer.py layout).

BERT-style POST-LayerNorm layers (eps from the config, 1e-12 officially), tanh-approximated GELU,
learned position embeddings, LayerNorm after the word+position sum, and an MLM head whose output
projection is tied to the word embeddings plus a per-vocabulary bias.
Sequence: position 0 is the class token (id = label + codebook_size), then h*w image tokens
row-major; masked positions hold config.mask_id, or -1 as in the official code (where
``jnp.take`` wraps it to the last row, which is config.mask_id).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import TransformerConfig


def gelu_tanh(x: torch.Tensor) -> torch.Tensor:
    return F.gelu(x, approximate="tanh")


class SelfAttention(nn.Module):
    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        h = config.hidden_size
        self.num_heads = config.num_heads
        self.query = nn.Linear(h, h)
        self.key = nn.Linear(h, h)
        self.value = nn.Linear(h, h)
        self.out = nn.Linear(h, h)
        self.dropout = config.dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        nh = self.num_heads

        def heads(proj: nn.Linear) -> torch.Tensor:
            return proj(x).view(b, t, nh, c // nh).transpose(1, 2)  # (B, nh, T, hs)

        p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(
            heads(self.query), heads(self.key), heads(self.value), dropout_p=p
        )
        return self.out(y.transpose(1, 2).reshape(b, t, c))  # (B, T, C)


class TransformerLayer(nn.Module):
    """x = LN(x + Attn(x)); x = LN(x + MLP(x)) (post-LN, as in BERT and the official model)."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        h, eps = config.hidden_size, config.layer_norm_eps
        self.attention = SelfAttention(config)
        self.attention_ln = nn.LayerNorm(h, eps=eps)
        self.intermediate = nn.Linear(h, config.mlp_size)
        self.output = nn.Linear(config.mlp_size, h)
        self.output_ln = nn.LayerNorm(h, eps=eps)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.attention_ln(x + self.dropout(self.attention(x)))
        return self.output_ln(x + self.dropout(self.output(gelu_tanh(self.intermediate(x)))))


class MaskGitTransformer(nn.Module):
    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.config = config
        h = config.hidden_size
        self.word_embeddings = nn.Embedding(config.vocab_size, h)
        self.position_embeddings = nn.Embedding(config.seq_len, h)
        self.embeddings_ln = nn.LayerNorm(h, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.dropout)
        self.layers = nn.ModuleList(TransformerLayer(config) for _ in range(config.num_layers))
        self.mlm_dense = nn.Linear(h, h)
        self.mlm_ln = nn.LayerNorm(h, eps=config.layer_norm_eps)
        self.mlm_bias = nn.Parameter(torch.zeros(config.vocab_size))
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        # BERT init: truncated normal(0.02) for dense and embeddings (official uses the same).
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.trunc_normal_(module.weight, std=0.02, a=-0.04, b=0.04)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def hidden_states(self, ids: torch.Tensor) -> torch.Tensor:
        """(B, 1+N) int64 ids -> (B, 1+N, H) final hidden states after the MLM dense + LN."""
        if ids.ndim != 2 or ids.shape[1] != self.config.seq_len:
            raise ValueError(f"expected (B, {self.config.seq_len}) ids, got {tuple(ids.shape)}")
        ids = self._vocab_rows(ids)
        positions = torch.arange(ids.shape[1], device=ids.device)
        x = self.word_embeddings(ids) + self.position_embeddings(positions)[None]
        x = self.dropout(self.embeddings_ln(x))
        for layer in self.layers:
            x = layer(x)
        return self.mlm_ln(gelu_tanh(self.mlm_dense(x)))

    def _vocab_rows(self, ids: torch.Tensor) -> torch.Tensor:
        """The official mask id -1 -> the mask row; any other id outside the vocabulary is a
        ValueError (not a bare IndexError from the embedding)."""
        ids = torch.where(ids == -1, self.config.mask_id, ids)
        lo, hi = ids.aminmax()
        if lo < 0 or hi >= self.config.vocab_size:
            raise ValueError(
                f"token ids must be in 0..{self.config.vocab_size - 1} (or -1 for the mask), "
                f"got values in {int(lo)}..{int(hi)}"
            )
        return ids

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """(B, 1+N) ids -> (B, 1+N, V) logits over the whole vocabulary (tied output head)."""
        h = self.hidden_states(ids)
        return h @ self.word_embeddings.weight.t() + self.mlm_bias

    def image_logits(self, ids: torch.Tensor) -> torch.Tensor:
        """(B, 1+N) ids -> (B, N, codebook_size) logits for image positions over image codes.

        Cheaper than ``forward`` when sampling: skips the class position and non-code rows.
        """
        k = self.config.codebook_size
        h = self.hidden_states(ids)[:, 1:]
        return h @ self.word_embeddings.weight[:k].t() + self.mlm_bias[:k]
