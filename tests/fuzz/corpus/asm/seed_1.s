# core 0: 2 instructions, 2 tiles, 3 requant sets, 0 LUTs
.tile 0 pe=1 xbar=2 rows=0 cols=7 unsigned=1 layer=2 fullscale=0 offset=-2.6906617 gaddr=2146928110 weights=@12
.tile 1 pe=6 xbar=2 rows=9 cols=2 unsigned=1 layer=2 fullscale=880231.06 offset=0 gaddr=1445835726 weights=@12
.requant 0 kind=add qmin=-74 qmax=1 mult_a=-168 mult_b=-2147483648 shift=34 a_unsigned=1 b_unsigned=1
.requant 1 kind=per_channel qmin=-115 qmax=188 channels=3 bias=[-516834928,-199,-41] mult=[1900616438,1922325957,1624399412] shift=[49,36,3]
.requant 2 kind=per_channel qmin=-77 qmax=74 channels=4 bias=[-907717915,82,2147483647,-2147483648] mult=[1436080040,1144725893,1416717505,1327426575] shift=[24,52,61,44]
  load [r9+117], [r3+2147483647], len=3318
  add32 [r13+2147483647], [r13+284], [r1-60], len=985
