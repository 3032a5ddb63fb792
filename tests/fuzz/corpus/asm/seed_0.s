# core 0: 8 instructions, 0 tiles, 2 requant sets, 0 LUTs
.requant 0 kind=add qmin=-13 qmax=53 mult_a=-2147483648 mult_b=-2147483648 shift=45 a_unsigned=1 b_unsigned=1
.requant 1 kind=add qmin=-42 qmax=121 mult_a=-2003029858 mult_b=-2147483648 shift=8 a_unsigned=1 b_unsigned=1
  add r15, r10, r6
.layer 1  # layer1
  max [r0+2147483647], [r12-4], [r11-1039400810], len=1884, unsigned=0
.layer 0  # layer0
  send [r6+2147483647], len=1073, core=0, tag=1263
  max [r7+130], [r6-71], [r6+2147483647], len=3408, unsigned=1
.layer 2  # layer2
  max [r7+231], [r4+2147483647], [r6+276], len=3795, unsigned=0
.layer 0  # layer0
  fill [r0+1049231719], len=321, value=8
.layer 3  # layer3
  add32 [r9-274], [r3+1], [r14+214], len=1279
.layer 0  # layer0
  store [r11-2147483648], [r2+266], len=2640
