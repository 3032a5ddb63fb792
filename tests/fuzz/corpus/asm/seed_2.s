# core 0: 10 instructions, 1 tiles, 0 requant sets, 0 LUTs
.tile 0 pe=4 xbar=6 rows=4 cols=4 unsigned=0 layer=2 fullscale=0 offset=3.3840275 weights=@12
  send [r5-204], len=4565, core=2, tag=2136
  halt
L2:
  bne r1, r14, L2
  max [r3-22], [r0-103], [r5+254], len=2172, unsigned=1
  halt
  halt
  max [r5+1278353295], [r6-26], [r9+210], len=2781, unsigned=0
  store [r11+1565441273], [r0+2147483647], len=4021
  li r1, 206
L9:
  jmp L9
