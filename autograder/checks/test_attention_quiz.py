"""Hidden checks of 02_attention_quiz: one check per question, the answer key never shown.

Questions 1-5 are seed 002's 第1关 (头歌), 6-12 come from seeds 000 and 002. The key is written once,
in reference_solutions/attention_quiz.py (instructor-side); feedback shows "(not shown)".
"""
import course_config
import reference_solutions.attention_quiz as ref
from autograder.checks import quiz
from reference_solutions.known_wrong.attention_quiz import WRONG

# name: (level, kind, options, the check's name in the verdict table); the key is the
# reference's value of `name` (reference_solutions/attention_quiz.py, the one place it is written)
QUESTIONS = {
    "answer_1": ("educoder_quiz", "single", "ABCD", "第1题 引入注意力机制的主要原因 / Q1 why attention"),
    "answer_2": ("educoder_quiz", "multiple", "ABCD",
                  "第2题 Attention 计算的形式（多选） / Q2 forms of attention scores"),
    "answer_3": ("educoder_quiz", "single", "ABCD", "第3题 seq2seq 引入 Attention 的原因 / Q3 attention in seq2seq"),
    "answer_4": ("educoder_quiz", "single", "ABCD", "第4题 Self-Attention 解决的问题 / Q4 what self-attention solves"),
    "answer_5": ("educoder_quiz", "single", "ABCD", "第5题 Self-Attention 的核心思想 / Q5 the idea of self-attention"),
    "answer_6": ("self_attention_quiz", "order", "ABCDE", "第6题 自注意力的计算步骤 / Q6 the steps of self-attention"),
    "answer_7": ("self_attention_quiz", "single", "ABCD", "第7题 为什么除以 8 / Q7 why divide by 8"),
    "answer_8": ("self_attention_quiz", "number", "", "第8题 d_k = 256 时的缩放 / Q8 the scale for d_k = 256"),
    "answer_9": ("self_attention_quiz", "single", "ABCD", "第9题 Q、K、V 从哪里来 / Q9 where Q, K, V come from"),
    "answer_10": ("attention_variants_quiz", "multiple", "ABCD",
                   "第10题 Soft 与 Hard Attention / Q10 soft vs hard attention"),
    "answer_11": ("attention_variants_quiz", "multiple", "ABCD", "第11题 多头注意力 / Q11 multi-head attention"),
    "answer_12": ("attention_variants_quiz", "single", "ABCD",
                   "第12题 编码器-解码器注意力的查询 / Q12 queries of encoder-decoder attention"),
}

VARIANTS = course_config.assignment("attention_quiz").folder  # each student's own order (show_questions cells)

quiz.register(QUESTIONS, ref, WRONG, globals(), variants=VARIANTS)
