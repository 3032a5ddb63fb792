# core 0: 1 instructions, 1 tiles, 2 requant sets, 0 LUTs
.tile 0 pe=2 xbar=0 rows=9 cols=1 unsigned=1 layer=2 fullscale=933827.44 weights=@12
.requant 0 kind=per_channel qmin=-37 qmax=81 channels=3 bias=[2147483647,62,-58] mult=[1847076110,1456266145,1914585409] shift=[44,28,28]
.requant 1 kind=add qmin=-52 qmax=156 mult_a=-20 mult_b=-87 shift=47 a_unsigned=0 b_unsigned=1
L0:
  bne r0, r5, L0
