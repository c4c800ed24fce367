"""The attention quiz (seed 002 第1关, seeds 000/002 for the rest): the answer key.

Instructor-side only: the build copies these sections into the source notebook's solution cells,
and nbgrader strips them from release/. The hidden checks read their key from here
(the one place it is written).
"""

# <level: educoder_quiz>
# 头歌 第1关 的五道选择题：填选项字母，多选题写出全部选项
# Seed 002's five questions: the option letters; for a multiple-choice question, every right option
##########Begin##########
answer_1 = "A"
answer_2 = "ABC"
answer_3 = "B"
answer_4 = "C"
answer_5 = "A"
##########End##########
# </level>


# <level: self_attention_quiz>
# 自注意力的计算步骤与缩放 / the steps of self-attention and its scaling
##########Begin##########
answer_6 = "EBDAC"
answer_7 = "C"
answer_8 = 16
answer_9 = "D"
##########End##########
# </level>


# <level: attention_variants_quiz>
# Soft / Hard Attention、多头注意力、编码器-解码器注意力 / soft vs hard, multi-head, encoder-decoder attention
##########Begin##########
answer_10 = "BC"
answer_11 = "ABD"
answer_12 = "B"
##########End##########
# </level>
