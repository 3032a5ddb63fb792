# core 0: 6 instructions, 1 tiles, 1 requant sets, 2 LUTs
.tile 0 pe=7 xbar=7 rows=9 cols=5 unsigned=1 layer=0 fullscale=77671.41 weights=@12
.requant 0 kind=add qmin=-37 qmax=132 mult_a=610024225 mult_b=267 shift=51 a_unsigned=0 b_unsigned=1
.lut 0 unsigned=0 table=[-32,-57,165,43,33,-105,23,67,165,71,-111,63,-116,-25,-92,59,227,-69,23,88,12,44,124,87,-61,203,35,153,63,83,76,241]
.lut 1 unsigned=0 table=[55,-33,161,154,79,70,-23,-20,69,-122,-15,100,-55,174,13,5,65,105,4,166,-61,29,-122,111,17,137,142,38,-43,-114,-23,8]
L0:
  blt r0, r13, L5
  add r15, r2, r12
  halt
L3:
  blt r3, r1, L3
  blt r2, r10, L0
L5:
  sum32 [r3+2147483647], [r8-37], len=163, unsigned=0
