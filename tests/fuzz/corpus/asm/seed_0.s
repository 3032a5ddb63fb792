# core 0: 8 instructions, 0 tiles, 2 requant sets, 0 LUTs
.requant 0 kind=add qmin=-13 qmax=53 mult_a=-2147483648 mult_b=-2147483648 shift=45 a_unsigned=1 b_unsigned=1
.requant 1 kind=add qmin=-42 qmax=121 mult_a=-2003029858 mult_b=-2147483648 shift=8 a_unsigned=1 b_unsigned=1
L0:
  add r15, r10, r6
.layer 1  # layer1
  max [r0+2147483647], [r12-4], [r11-1039400810], len=1884, unsigned=0
.layer 0  # layer0
  recv [r6+2147483647], len=1073, core=0, tag=1263
  send [r12+189138324], len=3584, core=0, tag=3368
  fill [r4+144], len=3127, value=-37
  load [r4+1221947639], [r15-18], len=2089
  bne r6, r11, L0
  copy [r2+66], [r14-2147483648], seg=1002, n_in=4599, s_in=249, d_in=214, n_out=1279, s_out=221, d_out=-291
