# core 0: 9 instructions, 3 tiles, 3 requant sets, 0 LUTs
.tile 0 pe=0 xbar=0 rows=7 cols=2 unsigned=0 layer=0 fullscale=0 offset=0.9973726 weights=@12
.tile 1 pe=3 xbar=3 rows=3 cols=6 unsigned=1 layer=0 fullscale=905759.56 offset=0 weights=@26
.tile 2 pe=5 xbar=0 rows=4 cols=1 unsigned=0 layer=0 fullscale=0 offset=-1.7428675 weights=@44
.requant 0 kind=add qmin=-63 qmax=224 mult_a=289 mult_b=-2147483648 shift=20 a_unsigned=0 b_unsigned=0
.requant 1 kind=add qmin=-106 qmax=66 mult_a=214 mult_b=32 shift=60 a_unsigned=1 b_unsigned=1
.requant 2 kind=per_channel qmin=-7 qmax=44 channels=2 bias=[271,872311919] mult=[1819709265,1308869984] shift=[27,38]
  jmp L6
  send [r10+255], len=2106, core=0, tag=395
  send [r13+2147483647], len=1357, core=0, tag=1414
  requant [r2-84], [r10-991016436], len=3187, qid=2
  fill [r10-2147483648], len=4133, value=-22
  store [r1-2147483648], [r7-2147483648], len=902
L6:
  recv [r11+157], len=624, core=0, tag=1519
  add32 [r15-811109339], [r4+2074635964], [r12-857827402], len=3120
  load [r1+2147483647], [r8+148], len=796
